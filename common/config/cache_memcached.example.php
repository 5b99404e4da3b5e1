<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — every cache in Memcached (installed in the
 * application as config/cache_memcached.php). Needs the memcached PHP
 * extension, which the static binary does not include (see
 * packaging/release.toml): with CACHE_ENGINE=auto, cache_auto.php falls back
 * to Redis or files instead.
 */
declare(strict_types=1);

use Cake\Cache\Engine\MemcachedEngine;

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

$memcached = static function (string $name, string $duration) use ($flag, $text): array {
    return [
        'className' => MemcachedEngine::class,
        'servers' => [$text(env('MEMCACHED_SERVER'), '127.0.0.1')],
        'port' => (int)$text(env('MEMCACHED_PORT'), '11211'),
        'prefix' => $text(env('MEMCACHED_PREFIX'), 'cake_') . $name . '_',
        'duration' => $duration,
        'serialize' => 'php',
        'log' => $flag(env('MEMCACHED_LOG'), false),
    ];
};

return [
    'Cache' => [
        'default' => $memcached('default', '+1 hours'),
        '_cake_core_' => $memcached('cake_core', '+1 years'),
        '_cake_model_' => $memcached('cake_model', '+1 years'),
        '_cake_routes_' => $memcached('cake_routes', '+1 years'),
        'languages' => $memcached('languages', '+1 years'),
        'subscription' => $memcached('subscription', '+1 hours'),
        'session' => $memcached('session', '+1 days'),
    ],
];
