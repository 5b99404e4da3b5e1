<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — Bitbucket OAuth app and webhook secret of the GitSync
 * plugin (installed in the application as plugins/GitSync/config/gitsync_bitbucket.php
 * when the plugin is part of the application). The plugin encrypts secrets
 * with Security.salt when they are saved from its settings page; values from
 * the environment are plain text.
 */
declare(strict_types=1);

$text = static function (string $name, ?string $default = null): ?string {
    $value = env($name);

    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

// HTTP_ROOT is the application's own base URL constant; FULL_BASE_URL stands in
// when this file is read before the application defines it.
$root = defined('HTTP_ROOT') ? (string)HTTP_ROOT : rtrim((string)$text('FULL_BASE_URL', ''), '/') . '/';

return [
    'GitSync' => [
        'bitbucket' => [
            'name' => $text('BITBUCKET_CLIENT_NAME'),
            'client_id' => $text('BITBUCKET_CLIENT_ID'),
            'client_secret' => $text('BITBUCKET_CLIENT_SECRET'),
            'redirect_uri' => $text('BITBUCKET_REDIRECT_URI', $root . 'git-sync/callback/bitbucket'),
            'webhook_secret' => $text('BITBUCKET_WEBHOOK_SECRET'),
        ],
    ],
];
