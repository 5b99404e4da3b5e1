<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — background jobs (cakephp/queue; installed in the
 * application as config/queue.php). The worker runs
 * `bin/cake.php queue worker --max-runtime WORKER_MAX_RUNTIME --sleep WORKER_SLEEP`.
 *
 * QUEUE_URL, when set, is the queue's DSN as is, e.g.
 * rediss://:token@primary.example.cache.amazonaws.com:6379/1 (TLS). Otherwise
 * the DSN is built from QUEUE_ENGINE (redis) and the REDIS_* variables, on
 * Redis database 1 unless REDIS_DATABASE says otherwise.
 */
declare(strict_types=1);

$flag = static function (string $name, bool $default): bool {
    $value = env($name);
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

$text = static function (string $name, ?string $default = null): ?string {
    $value = env($name);

    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

$url = $text('QUEUE_URL');
if ($url === null) {
    $password = $text('REDIS_PASSWORD');
    $url = sprintf(
        '%s://%s%s:%d/%d',
        $flag('REDIS_TLS_ENABLED', false) ? 'rediss' : $text('QUEUE_ENGINE', 'redis'),
        $password !== null ? ':' . rawurlencode($password) . '@' : '',
        $text('REDIS_HOST', 'localhost'),
        (int)$text('REDIS_PORT', '6379'),
        (int)$text('REDIS_DATABASE', '1')
    );
}

$verify = $flag('REDIS_TLS_VERIFY_PEER', false);

return [
    'Queue' => [
        'default' => [
            'url' => $url,
            'queue' => 'default',
            'logger' => 'stdout',
            // Failed jobs are kept in the queue_failed_jobs table.
            'storeFailedJobs' => true,
            // How long the worker waits for a job before polling again (ms).
            'receiveTimeout' => 10000,
            'options' => [
                'timeout' => (int)$text('REDIS_TIMEOUT', '10'),
                'read_timeout' => 30,
                'persistent' => $flag('REDIS_PERSISTENT', false),
                'ssl' => [
                    'verify_peer' => $verify,
                    'verify_peer_name' => $verify,
                    'SNI_enabled' => true,
                ],
            ],
        ],
    ],
];
