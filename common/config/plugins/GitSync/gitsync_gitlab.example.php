<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — GitLab OAuth app and webhook secret of the GitSync
 * plugin (installed in the application as plugins/GitSync/config/gitsync_gitlab.php
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
        'gitlab' => [
            'name' => $text(env('GITLAB_CLIENT_NAME')),
            'client_id' => $text(env('GITLAB_CLIENT_ID')),
            'client_secret' => $text(env('GITLAB_CLIENT_SECRET')),
            'redirect_uri' => $text(env('GITLAB_REDIRECT_URI'), $root . 'git-sync/callback/gitlab'),
            // A self-managed GitLab: its URL.
            'instance_url' => $text(env('GITLAB_INSTANCE_URL'), 'https://gitlab.com'),
            'webhook_secret' => $text(env('GITLAB_WEBHOOK_SECRET')),
        ],
    ],
];
