<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — GitLab OAuth app and webhook secret of the GitSync
 * plugin (installed in the application as plugins/GitSync/config/gitsync_gitlab.php
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
        'gitlab' => [
            'name' => $text('GITLAB_CLIENT_NAME'),
            'client_id' => $text('GITLAB_CLIENT_ID'),
            'client_secret' => $text('GITLAB_CLIENT_SECRET'),
            'redirect_uri' => $text('GITLAB_REDIRECT_URI', $root . 'git-sync/callback/gitlab'),
            // A self-managed GitLab: its URL.
            'instance_url' => $text('GITLAB_INSTANCE_URL', 'https://gitlab.com'),
            'webhook_secret' => $text('GITLAB_WEBHOOK_SECRET'),
        ],
    ],
];
