<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — background jobs (cakephp/queue; installed in the
 * application as config/queue.php). Jobs are kept in Redis; run the worker
 * with "bin/cake.php queue worker" (queue-worker service / unit).
 *
 * QUEUE_HEARTBEAT_SECS: the worker waits at most this long for a job before
 * polling again, so an idle worker still wakes up (and notices SIGTERM and
 * dropped connections) at least this often.
 */
declare(strict_types=1);

$password = env('REDIS_PASSWORD');
$auth = $password !== null && $password !== '' ? ':' . rawurlencode((string)$password) . '@' : '';

return [
    'Queue' => [
        'default' => [
            'url' => sprintf(
                '%s://%s%s:%d',
                env('QUEUE_ENGINE') ?: 'redis',
                $auth,
                env('REDIS_HOST'),
                (int)(env('REDIS_PORT') ?: 6379)
            ),
            'queue' => '@@APP_NAME@@',
            // Log configuration from app_local.example.php (stdout).
            'logger' => 'debug',
            'receiveTimeout' => max(1, (int)(env('QUEUE_HEARTBEAT_SECS') ?: 30)) * 1000,
        ],
    ],
];
