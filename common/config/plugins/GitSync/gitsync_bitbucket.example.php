<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — Bitbucket OAuth app and webhook secret of the GitSync
 * plugin (installed in the application as plugins/GitSync/config/gitsync_bitbucket.php
 * when the plugin is part of the application). The plugin encrypts secrets
 * with Security.salt when they are saved from its settings page; values from
 * the environment are plain text.
 */
declare(strict_types=1);

// An env() value as a string; unset or empty (`NAME=` in .env) gives $default.
$text = static function ($value, ?string $default = null): ?string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

// HTTP_ROOT is the application's own base URL constant; FULL_BASE_URL stands in
// when this file is read before the application defines it.
$root = defined('HTTP_ROOT') ? (string)HTTP_ROOT : rtrim((string)$text(env('FULL_BASE_URL'), ''), '/') . '/';

return [
    'GitSync' => [
        'bitbucket' => [
            'name' => $text(env('BITBUCKET_CLIENT_NAME')),
            'client_id' => $text(env('BITBUCKET_CLIENT_ID')),
            'client_secret' => $text(env('BITBUCKET_CLIENT_SECRET')),
            'redirect_uri' => $text(env('BITBUCKET_REDIRECT_URI'), $root . 'git-sync/callback/bitbucket'),
            'webhook_secret' => $text(env('BITBUCKET_WEBHOOK_SECRET')),
        ],
    ],
];
