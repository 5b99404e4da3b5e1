<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — GitHub OAuth app and webhooks of the GitHub
 * integration (installed in the application as config/github.php). Create the
 * OAuth app at https://github.com/settings/developers.
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
    'Github' => [
        'name' => $text(env('GITHUB_CLIENT_NAME')),
        'client_id' => $text(env('GITHUB_CLIENT_ID')),
        'client_secret' => $text(env('GITHUB_CLIENT_SECRET')),
        'redirect_uri' => $text(env('GITHUB_REDIRECT_URI'), $root . 'git/gitconnect'),
        'hook_url' => $text(env('GITHUB_HOOK_URI'), $root . 'githooks/updategithubevents'),
    ],
];
