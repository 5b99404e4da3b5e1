<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — every cache in Redis (installed in the application
 * as config/cache_redis.php). Redis keeps the caches, and the "session" cache
 * of SESSION_HANDLER=cache, shared by any number of instances.
 *
 * REDIS_TLS_ENABLED=true connects with TLS (e.g. AWS ElastiCache with
 * in-transit encryption); REDIS_TLS_VERIFY_PEER checks the server certificate.
 */
declare(strict_types=1);

use Cake\Cache\Engine\RedisEngine;

// An env() value as a boolean (true/false, 1/0, yes/no, on/off); unset or
// empty gives $default.
$flag = static function ($value, bool $default): bool {
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

// An env() value as a string; unset or empty (`NAME=` in .env) gives $default.
$text = static function ($value, ?string $default = null): ?string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

$redis = static function (string $name, string $duration) use ($flag, $text): array {
    $config = [
        'className' => RedisEngine::class,
        'host' => $text(env('REDIS_HOST'), 'localhost'),
        'port' => (int)$text(env('REDIS_PORT'), '6379'),
        // null: no AUTH (an empty password would be sent and refused).
        'password' => $text(env('REDIS_PASSWORD')),
        'database' => (int)$text(env('REDIS_DATABASE'), '0'),
        'prefix' => $text(env('REDIS_PREFIX'), 'cake_') . $name . '_',
        'duration' => $duration,
        'timeout' => (int)$text(env('REDIS_TIMEOUT'), '10'),
        'persistent' => $flag(env('REDIS_PERSISTENT'), false),
    ];
    if ($flag(env('REDIS_TLS_ENABLED'), false)) {
        $config['tls'] = true;
        $verify = $flag(env('REDIS_TLS_VERIFY_PEER'), false);
        $config['ssl'] = [
            'verify_peer' => $verify,
            'verify_peer_name' => $verify,
            'SNI_enabled' => true,
        ];
    }

    return $config;
};

return [
    'Cache' => [
        'default' => $redis('default', '+1 hours'),
        '_cake_core_' => $redis('cake_core', '+1 years'),
        '_cake_model_' => $redis('cake_model', '+1 years'),
        '_cake_routes_' => $redis('cake_routes', '+1 years'),
        'languages' => $redis('languages', '+1 years'),
        'subscription' => $redis('subscription', '+1 hours'),
        // SESSION_HANDLER=cache (app_local.php) keeps sessions here.
        'session' => $redis('session', '+1 days'),
    ],
];
