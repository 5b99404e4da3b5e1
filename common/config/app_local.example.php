<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — production overrides for config/app.php
 * (installed in the application as config/app_local.php).
 *
 * Every setting is read from the environment with env(); this file holds no
 * secret and is the same for every installation. Variables: .env.example,
 * reference: CONFIGS.md. The validator (helpers/validate-env.sh) checks the
 * same variables before the server starts.
 */
declare(strict_types=1);

use Cake\Database\Connection;
use Cake\Database\Driver\Postgres;
use Cake\Log\Engine\ConsoleLog;

// "true"/"false" (also 1/0, yes/no, on/off); unset or empty gives $default.
$bool = static function (string $name, bool $default = false): bool {
    $value = env($name);
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

$fullBaseUrl = (string)env('FULL_BASE_URL');
$https = strncmp($fullBaseUrl, 'https://', 8) === 0;
$sessionHandler = env('SESSION_HANDLER') ?: 'cache';

return [
    'debug' => $bool('DEBUG', false),

    'App' => [
        // false lets CakePHP derive the URL from the request (not recommended
        // behind a proxy; links in e-mails need the public URL).
        'fullBaseUrl' => $fullBaseUrl !== '' ? $fullBaseUrl : false,
    ],

    'Security' => [
        'salt' => env('SECURITY_SALT'),
    ],

    'Datasources' => [
        'default' => [
            'className' => Connection::class,
            'driver' => Postgres::class,
            'persistent' => false,
            'host' => env('DB_HOST'),
            'port' => (int)(env('DB_PORT') ?: 5432),
            'username' => env('DB_USERNAME'),
            'password' => env('DB_PASSWORD'),
            'database' => env('DB_NAME'),
            'encoding' => 'utf8',
            'timezone' => 'UTC',
            'cacheMetadata' => true,
            'log' => false,
        ],
    ],

    // cache: sessions live in Redis through the "session" cache configuration
    // of cache_redis.example.php, so every instance sees every session.
    'Session' => $sessionHandler === 'cache'
        ? [
            'defaults' => 'cache',
            'handler' => ['config' => 'session'],
            'cookie' => '@@APP_NAME@@_session',
            'ini' => ['session.cookie_secure' => $https, 'session.cookie_httponly' => true],
        ]
        : [
            'defaults' => $sessionHandler,
            'cookie' => '@@APP_NAME@@_session',
            'ini' => ['session.cookie_secure' => $https, 'session.cookie_httponly' => true],
        ],

    // Logs go to stdout/stderr: the container log (docker compose logs) or
    // the journal (journalctl -u @@APP_NAME@@). Nothing is written to disk.
    'Log' => [
        'debug' => [
            'className' => ConsoleLog::class,
            'stream' => 'php://stdout',
            'levels' => ['notice', 'info', 'debug'],
        ],
        'error' => [
            'className' => ConsoleLog::class,
            'stream' => 'php://stderr',
            'levels' => ['warning', 'error', 'critical', 'alert', 'emergency'],
        ],
    ],

    // Routing between this installation (V4) and an OrangeScrum V2 installation.
    'V4Routing' => [
        'enabled' => $bool('V4_ROUTING_ENABLED', false),
        'apiKey' => env('V2_ROUTING_API_KEY'),
        'v2BaseUrl' => env('V2_BASE_URL'),
        'v4BaseUrl' => env('V4_BASE_URL'),
        'sslVerify' => $bool('V2_SSL_VERIFY', true),
    ],

    'Recaptcha' => [
        'enabled' => $bool('RECAPTCHA_ENABLED', false),
        'siteKey' => env('RECAPTCHA_SITE_KEY'),
        'secretKey' => env('RECAPTCHA_SECRET_KEY'),
    ],

    'GoogleOAuth' => [
        'enabled' => $bool('GOOGLE_OAUTH_ENABLED', false),
        'clientId' => env('GOOGLE_CLIENT_ID'),
        'clientSecret' => env('GOOGLE_CLIENT_SECRET'),
    ],
];
