<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — "Sign in with Google" (installed in the
 * application as config/google_oauth.php). GOOGLE_OAUTH_REDIRECT_URI must be
 * one of the authorised redirect URIs of the OAuth client in Google Cloud.
 */
declare(strict_types=1);

$flag = static function (string $name, bool $default): bool {
    $value = env($name);
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

$text = static function (string $name, ?string $default = null): ?string {
    $value = env($name);

    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

return [
    'GoogleOAuth' => [
        'enabled' => $flag('GOOGLE_OAUTH_ENABLED', false),
        'client_id' => $text('GOOGLE_OAUTH_CLIENT_ID'),
        'client_secret' => $text('GOOGLE_OAUTH_CLIENT_SECRET'),
        'redirect_uri' => $text('GOOGLE_OAUTH_REDIRECT_URI'),
        'scopes' => ['openid', 'email', 'profile'],
    ],
];
