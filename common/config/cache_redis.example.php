<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — cache configuration (installed in the application
 * as config/cache_redis.php and loaded after app_local.php).
 *
 * CACHE_ENGINE=redis (default) keeps every cache, and the "session" cache used
 * by SESSION_HANDLER=cache, in Redis so that any number of instances share
 * them. CACHE_ENGINE=file is for a single instance only.
 */
declare(strict_types=1);

use Cake\Cache\Engine\FileEngine;
use Cake\Cache\Engine\RedisEngine;

$engine = env('CACHE_ENGINE') ?: 'redis';

$cache = static function (string $prefix, string $duration) use ($engine): array {
    if ($engine === 'file') {
        return [
            'className' => FileEngine::class,
            'path' => CACHE,
            'prefix' => '@@APP_NAME@@_' . $prefix,
            'duration' => $duration,
        ];
    }

    $password = env('REDIS_PASSWORD');

    return [
        'className' => RedisEngine::class,
        'server' => env('REDIS_HOST'),
        'port' => (int)(env('REDIS_PORT') ?: 6379),
        'password' => $password !== null && $password !== '' ? $password : false,
        'database' => 0,
        'prefix' => '@@APP_NAME@@_' . $prefix,
        'duration' => $duration,
        'timeout' => 2,
        'persistent' => false,
    ];
};

return [
    'Cache' => [
        'default' => $cache('default_', '+1 hours'),
        // CakePHP 4 uses _cake_core_, CakePHP 5 _cake_translations_.
        '_cake_core_' => $cache('cake_core_', '+1 years'),
        '_cake_translations_' => $cache('cake_translations_', '+1 years'),
        '_cake_model_' => $cache('cake_model_', '+1 years'),
        '_cake_routes_' => $cache('cake_routes_', '+1 years'),
        'session' => $cache('session_', '+1 days'),
    ],
];
