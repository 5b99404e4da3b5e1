<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — Google reCAPTCHA on the sign-up and sign-in
 * forms (installed in the application as config/recaptcha.php). Keys:
 * https://www.google.com/recaptcha/admin
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
    'Recaptcha' => [
        'enabled' => $flag('RECAPTCHA_ENABLED', false),
        'siteKey' => $text('RECAPTCHA_SITE_KEY'),
        'secretKey' => $text('RECAPTCHA_SECRET_KEY'),
        // v2: the checkbox; v3: invisible, scored.
        'version' => $text('RECAPTCHA_VERSION', 'v3'),
        // v3: requests scoring below this (0.0-1.0) are treated as bots.
        'minScore' => (float)$text('RECAPTCHA_MIN_SCORE', '0.5'),
        'theme' => $text('RECAPTCHA_THEME', 'light'),
        'size' => $text('RECAPTCHA_SIZE', 'normal'),
    ],
];
