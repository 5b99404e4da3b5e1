<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — cache engine chosen at run time (installed in the
 * application as config/cache_auto.php).
 *
 * CACHE_ENGINE=redis|memcached|file uses that engine when its PHP extension is
 * loaded; CACHE_ENGINE=auto (or unset) prefers Redis, then Memcached, then
 * files. An engine whose extension is missing falls back to files, with a line
 * in the error log. The settings themselves are those of cache_redis.php,
 * cache_memcached.php and cache_file.php, installed beside this file.
 */
declare(strict_types=1);

$wanted = strtolower((string)(env('CACHE_ENGINE') ?: 'auto'));
$available = [
    'redis' => extension_loaded('redis'),
    'memcached' => extension_loaded('memcached'),
    'file' => true,
];

if ($wanted === 'auto') {
    $engine = $available['redis'] ? 'redis' : ($available['memcached'] ? 'memcached' : 'file');
} elseif (isset($available[$wanted]) && $available[$wanted]) {
    $engine = $wanted;
} else {
    error_log(sprintf(
        'cache_auto: CACHE_ENGINE=%s is not available (unknown engine or PHP extension not loaded); using file caches',
        $wanted
    ));
    $engine = 'file';
}

return require __DIR__ . '/cache_' . $engine . '.php';
