<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — background jobs (cakephp/queue; installed in the
 * application as config/queue.php). The worker runs
 * `bin/cake.php queue worker --max-runtime WORKER_MAX_RUNTIME --sleep WORKER_SLEEP`.
 *
 * QUEUE_URL, when set, is the queue's DSN as is (scheme rediss:// for TLS,
 * the auth token as the password part, the database as the path). Otherwise
 * the DSN is built from QUEUE_ENGINE (redis) and the REDIS_* variables, on
 * Redis database 1 unless REDIS_DATABASE says otherwise.
 */
declare(strict_types=1);

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

$url = $text(env('QUEUE_URL'));
if ($url === null) {
    $password = $text(env('REDIS_PASSWORD'));
    $url = sprintf(
        '%s://%s%s:%d/%d',
        $flag(env('REDIS_TLS_ENABLED'), false) ? 'rediss' : $text(env('QUEUE_ENGINE'), 'redis'),
        $password !== null ? ':' . rawurlencode($password) . '@' : '',
        $text(env('REDIS_HOST'), 'localhost'),
        (int)$text(env('REDIS_PORT'), '6379'),
        (int)$text(env('REDIS_DATABASE'), '1')
    );
}

$verify = $flag(env('REDIS_TLS_VERIFY_PEER'), false);

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
                'timeout' => (int)$text(env('REDIS_TIMEOUT'), '10'),
                'read_timeout' => 30,
                'persistent' => $flag(env('REDIS_PERSISTENT'), false),
                'ssl' => [
                    'verify_peer' => $verify,
                    'verify_peer_name' => $verify,
                    'SNI_enabled' => true,
                ],
            ],
        ],
    ],
];
