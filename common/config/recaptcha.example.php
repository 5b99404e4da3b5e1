<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — Google reCAPTCHA on the sign-up and sign-in
 * forms (installed in the application as config/recaptcha.php). Keys:
 * https://www.google.com/recaptcha/admin
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
    'Recaptcha' => [
        'enabled' => $flag(env('RECAPTCHA_ENABLED'), false),
        'siteKey' => $text(env('RECAPTCHA_SITE_KEY')),
        'secretKey' => $text(env('RECAPTCHA_SECRET_KEY')),
        // v2: the checkbox; v3: invisible, scored.
        'version' => $text(env('RECAPTCHA_VERSION'), 'v3'),
        // v3: requests scoring below this (0.0-1.0) are treated as bots.
        'minScore' => (float)$text(env('RECAPTCHA_MIN_SCORE'), '0.5'),
        'theme' => $text(env('RECAPTCHA_THEME'), 'light'),
        'size' => $text(env('RECAPTCHA_SIZE'), 'normal'),
    ],
];
