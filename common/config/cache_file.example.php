<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — every cache on the local disk (installed in the
 * application as config/cache_file.php). For a single instance only: the files
 * live under the embedded app's tmp/cache/, which is private to one process
 * tree and lost on restart.
 */
declare(strict_types=1);

use Cake\Cache\Engine\FileEngine;

// An env() value as a string; unset or empty (`NAME=` in .env) gives $default.
$text = static function ($value, ?string $default = null): ?string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

// CACHE is defined by the application's config/paths.php.
$dir = defined('CACHE') ? CACHE : sys_get_temp_dir() . DIRECTORY_SEPARATOR;
$prefix = $text(env('CACHE_PREFIX'), 'cake_');

$file = static function (string $name, string $sub, string $duration) use ($dir, $prefix): array {
    return [
        'className' => FileEngine::class,
        'path' => $dir . $sub,
        'prefix' => $prefix . $name . '_',
        'duration' => $duration,
        'serialize' => true,
    ];
};

return [
    'Cache' => [
        'default' => $file('default', '', '+1 hours'),
        '_cake_core_' => $file('cake_core', 'persistent' . DIRECTORY_SEPARATOR, '+1 years'),
        '_cake_model_' => $file('cake_model', 'models' . DIRECTORY_SEPARATOR, '+1 years'),
        '_cake_routes_' => $file('cake_routes', '', '+1 years'),
        'languages' => $file('languages', 'persistent' . DIRECTORY_SEPARATOR, '+1 years'),
        'subscription' => $file('subscription', '', '+1 hours'),
        'session' => $file('session', 'sessions' . DIRECTORY_SEPARATOR, '+1 days'),
    ],
];
