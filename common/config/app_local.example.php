<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — production overrides of config/app.php, installed in
 * the embedded application as config/app_local.php.
 *
 * Every value comes from the environment (env()); the file holds no secret and
 * is the same for every installation. Variable reference: CONFIGS.md.
 */
declare(strict_types=1);

use Cake\Database\Connection;
use Cake\Database\Driver\Postgres;
use Cake\Log\Engine\ConsoleLog;

// true/false, 1/0, yes/no, on/off; unset or empty gives $default.
// An env() value as a boolean (true/false, 1/0, yes/no, on/off); unset or
// empty gives $default.
$flag = static function ($value, bool $default): bool {
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

// Empty strings count as unset, so `NAME=` in .env gives the default.
// An env() value as a string; unset or empty (`NAME=` in .env) gives $default.
$text = static function ($value, ?string $default = null): ?string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

// DB_PASSWORD_FILE (a Docker secret) names a file holding the password. The
// launchers already export its content as DB_PASSWORD; reading it here as
// well keeps php-cli commands started by hand working.
$dbPassword = $text(env('DB_PASSWORD'));
$passwordFile = $text(env('DB_PASSWORD_FILE'));
if ($dbPassword === null && $passwordFile !== null && is_readable($passwordFile)) {
    $dbPassword = rtrim((string)file_get_contents($passwordFile), "\r\n");
}

$fullBaseUrl = $text(env('FULL_BASE_URL'));
$https = $fullBaseUrl !== null && strncmp($fullBaseUrl, 'https://', 8) === 0;

// Session storage. cache (default): CakePHP's cache session handler on the
// "session" cache configuration (Redis, shared by every instance). php: PHP's
// own handler from php.ini (session.save_handler = redis); its save path is
// completed here with the Redis database and password. database: the
// sessions table.
$sessionHandler = $text(env('SESSION_HANDLER'), 'cache');
$sessionIni = [
    'session.cookie_secure' => $https,
    'session.cookie_httponly' => true,
    'session.cookie_samesite' => 'Lax',
];
$cookieDomain = $text(env('SESSION_COOKIE_DOMAIN'));
if ($cookieDomain !== null) {
    $sessionIni['session.cookie_domain'] = $cookieDomain;
}
if ($sessionHandler === 'php') {
    $query = ['database' => (int)$text(env('REDIS_DATABASE'), '0')];
    $redisPassword = $text(env('REDIS_PASSWORD'));
    if ($redisPassword !== null) {
        $query['auth'] = $redisPassword;
    }
    $prefix = $text(env('REDIS_PREFIX'));
    if ($prefix !== null) {
        $query['prefix'] = $prefix . 'session_';
    }
    $sessionIni['session.save_path'] = sprintf(
        'tcp://%s:%d?%s',
        $text(env('REDIS_HOST'), 'localhost'),
        (int)$text(env('REDIS_PORT'), '6379'),
        http_build_query($query)
    );
}
$session = [
    'defaults' => $sessionHandler,
    'cookie' => $text(env('SESSION_COOKIE_NAME'), 'PHPSESSID_V4'),
    'ini' => $sessionIni,
];
if ($sessionHandler === 'cache') {
    $session['handler'] = ['config' => 'session'];
}

// Logs go to stdout/stderr (docker compose logs, journalctl) unless
// LOG_DEBUG_URL / LOG_ERROR_URL name another CakePHP log DSN.
$log = static function ($url, string $stream, array $levels) use ($text): array {
    $url = $text($url);
    if ($url !== null) {
        return ['url' => $url, 'levels' => $levels];
    }

    return ['className' => ConsoleLog::class, 'stream' => $stream, 'levels' => $levels];
};

return [
    'debug' => $flag(env('DEBUG'), false),

    'App' => [
        // false: CakePHP derives the URL from the request (links in e-mails
        // need FULL_BASE_URL behind a proxy).
        'fullBaseUrl' => $fullBaseUrl ?? false,
        'encoding' => $text(env('APP_ENCODING'), 'UTF-8'),
        'defaultLocale' => $text(env('APP_DEFAULT_LOCALE'), 'en_US'),
        'defaultTimezone' => $text(env('APP_DEFAULT_TIMEZONE'), 'UTC'),
    ],

    'Security' => [
        'salt' => $text(env('SECURITY_SALT')),
    ],

    'Datasources' => [
        'default' => [
            'className' => Connection::class,
            'driver' => Postgres::class,
            'persistent' => false,
            'host' => $text(env('DB_HOST'), 'localhost'),
            'port' => (int)$text(env('DB_PORT'), '5432'),
            'username' => $text(env('DB_USERNAME')),
            'password' => $dbPassword,
            'database' => $text(env('DB_NAME')),
            'schema' => $text(env('DB_SCHEMA'), 'public'),
            'encoding' => 'utf8',
            'timezone' => 'UTC',
            'cacheMetadata' => true,
            'log' => $flag(env('DB_LOG'), false),
        ],
    ],

    'Session' => $session,

    'Log' => [
        'debug' => $log(env('LOG_DEBUG_URL'), 'php://stdout', ['notice', 'info', 'debug']),
        'error' => $log(env('LOG_ERROR_URL'), 'php://stderr', ['warning', 'error', 'critical', 'alert', 'emergency']),
    ],
];
