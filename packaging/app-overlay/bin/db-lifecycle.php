<?php
/**
 * Database steps of the deployment lifecycle that need no psql: the build adds this script
 * to the embedded app as bin/db-lifecycle.php, and helpers/migrate.sh runs it as
 *   <binary> php-cli bin/db-lifecycle.php COMMAND
 * from a folder without bin/ (e.g. /), so FrankenPHP resolves it inside the extracted app.
 *
 * Commands (exit codes):
 *   wait            connect within DB_WAIT_TIMEOUT seconds (default 60)       0 ok, 1 timed out, 2 bad setting
 *   plugins         print the plugins under plugins/ that have migrations     0
 *   seed-needed     is the actions table empty or missing?                    0 yes, 1 no, 2 error
 *   sql FILE        run an SQL file of the app (relative path)                0 ok, 3 SQLSTATE 23505, 1 error, 2 usage
 *
 * Connection: DB_HOST, DB_PORT (5432), DB_NAME, DB_USERNAME, DB_PASSWORD, or DB_PASSWORD_FILE.
 */
declare(strict_types=1);

const EXIT_OK = 0;
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;
const EXIT_DUPLICATE = 3;

$appDir = dirname(__DIR__);

function say(string $line): void
{
    fwrite(STDOUT, "db-lifecycle: {$line}\n");
}

function complain(string $line): void
{
    fwrite(STDERR, "db-lifecycle: error: {$line}\n");
}

function setting(string $name, ?string $default = null): ?string
{
    $value = getenv($name);
    return ($value === false || $value === '') ? $default : $value;
}

/** DB_HOST:DB_PORT, the way every message names the database. */
function endpoint(): string
{
    $host = (string)setting('DB_HOST', '');
    $port = (string)setting('DB_PORT', '5432');
    return (str_contains($host, ':') ? "[{$host}]" : $host) . ':' . $port;
}

function password(): string
{
    $file = setting('DB_PASSWORD_FILE');
    if ($file !== null) {
        $value = @file_get_contents($file);
        if ($value === false) {
            throw new RuntimeException("DB_PASSWORD_FILE={$file} cannot be read; point it at the secret file (e.g. /run/secrets/db_password)");
        }
        return rtrim($value, "\r\n");
    }
    return (string)setting('DB_PASSWORD', '');
}

function connect(int $timeout): PDO
{
    foreach (['DB_HOST', 'DB_NAME', 'DB_USERNAME'] as $required) {
        if (setting($required) === null) {
            throw new InvalidArgumentException("{$required} is not set; set it in the .env file");
        }
    }
    $dsn = sprintf(
        'pgsql:host=%s;port=%s;dbname=%s;connect_timeout=%d',
        setting('DB_HOST'),
        setting('DB_PORT', '5432'),
        setting('DB_NAME'),
        max(2, $timeout)
    );
    return new PDO($dsn, (string)setting('DB_USERNAME'), password(), [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
    ]);
}

/** DB_WAIT_TIMEOUT: whole seconds, 1..3600, default 60. */
function wait_timeout(): int
{
    $raw = setting('DB_WAIT_TIMEOUT', '60');
    if (!preg_match('/^\d{1,4}$/', $raw) || (int)$raw < 1 || (int)$raw > 3600) {
        throw new InvalidArgumentException("DB_WAIT_TIMEOUT='{$raw}' must be a whole number of seconds from 1 to 3600");
    }
    return (int)$raw;
}

function cmd_wait(): int
{
    try {
        $timeout = wait_timeout();
        password();
    } catch (Throwable $e) {
        complain($e->getMessage());
        return EXIT_USAGE;
    }
    $deadline = microtime(true) + $timeout;
    $attempt = 0;
    while (true) {
        $attempt++;
        $left = $deadline - microtime(true);
        try {
            connect((int)ceil(min(5.0, max(1.0, $left))))->query('SELECT 1');
            say('database ' . endpoint() . " answers (attempt {$attempt})");
            return EXIT_OK;
        } catch (InvalidArgumentException $e) {
            complain($e->getMessage());
            return EXIT_USAGE;
        } catch (Throwable $e) {
            $last = trim($e->getMessage());
        }
        if (microtime(true) + 1 > $deadline) {
            complain('database ' . endpoint() . " did not answer within {$timeout}s (DB_WAIT_TIMEOUT): {$last}. "
                . 'Check that PostgreSQL runs and that DB_HOST/DB_PORT point at it.');
            return EXIT_FAIL;
        }
        sleep(1);
    }
}

/** Plugin folders with a config/Migrations folder that holds at least one file. */
function cmd_plugins(string $appDir): int
{
    $dirs = glob($appDir . '/plugins/*', GLOB_ONLYDIR) ?: [];
    sort($dirs);
    foreach ($dirs as $dir) {
        $migrations = glob($dir . '/config/Migrations/*') ?: [];
        if ($migrations !== []) {
            fwrite(STDOUT, basename($dir) . "\n");
        }
    }
    return EXIT_OK;
}

function cmd_seed_needed(): int
{
    try {
        $db = connect(5);
        $exists = $db->query("SELECT to_regclass('actions') IS NOT NULL")->fetchColumn();
        if (!$exists) {
            say('table actions does not exist: seeding needed');
            return EXIT_OK;
        }
        $count = (int)$db->query('SELECT COUNT(*) FROM actions')->fetchColumn();
    } catch (Throwable $e) {
        complain('database ' . endpoint() . ': ' . $e->getMessage());
        return EXIT_USAGE;
    }
    if ($count === 0) {
        say('table actions is empty: seeding needed');
        return EXIT_OK;
    }
    say("table actions has {$count} rows: already seeded");
    return EXIT_FAIL;
}

function cmd_sql(string $appDir, ?string $relative): int
{
    if ($relative === null || $relative === '' || $relative[0] === '/'
        || in_array('..', explode('/', $relative), true)) {
        complain('sql needs a path relative to the app, e.g. config/schema/pg_config_1.sql');
        return EXIT_USAGE;
    }
    $file = $appDir . '/' . $relative;
    $sql = @file_get_contents($file);
    if ($sql === false) {
        complain("{$relative}: not found in the app ({$file})");
        return EXIT_FAIL;
    }
    try {
        connect(5)->exec($sql);
    } catch (PDOException $e) {
        if ($e->getCode() === '23505') {
            say("{$relative}: duplicate key (SQLSTATE 23505): already applied. " . trim($e->getMessage()));
            return EXIT_DUPLICATE;
        }
        complain("{$relative}: " . trim($e->getMessage()));
        return EXIT_FAIL;
    } catch (Throwable $e) {
        complain("{$relative}: " . $e->getMessage());
        return EXIT_FAIL;
    }
    say("{$relative}: applied");
    return EXIT_OK;
}

$command = $argv[1] ?? '';
switch ($command) {
    case 'wait':
        exit(cmd_wait());
    case 'plugins':
        exit(cmd_plugins($appDir));
    case 'seed-needed':
        exit(cmd_seed_needed());
    case 'sql':
        exit(cmd_sql($appDir, $argv[2] ?? null));
    default:
        complain("unknown command '{$command}'; use wait | plugins | seed-needed | sql FILE");
        exit(EXIT_USAGE);
}
