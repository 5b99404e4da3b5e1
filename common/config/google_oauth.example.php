<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — "Sign in with Google" (installed in the
 * application as config/google_oauth.php). GOOGLE_OAUTH_REDIRECT_URI must be
 * one of the authorised redirect URIs of the OAuth client in Google Cloud.
 */
declare(strict_types=1);

// An env() value as a boolean (true/false, 1/0, yes/no, on/off); unset or
// empty gives $default.
$flag = static function ($value, bool $default): bool {
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

// An env() value as a string; unset or empty (`NAME=` in .env) gives $default.
$text = static function ($value, ?string $default = null): ?string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

return [
    'GoogleOAuth' => [
        'enabled' => $flag(env('GOOGLE_OAUTH_ENABLED'), false),
        'client_id' => $text(env('GOOGLE_OAUTH_CLIENT_ID')),
        'client_secret' => $text(env('GOOGLE_OAUTH_CLIENT_SECRET')),
        'redirect_uri' => $text(env('GOOGLE_OAUTH_REDIRECT_URI')),
        'scopes' => ['openid', 'email', 'profile'],
    ],
];
