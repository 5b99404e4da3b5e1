<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — e-mail through an SMTP relay (installed in the
 * application as config/smtp.php). Used when EMAIL_TRANSPORT=smtp.
 *
 * SMTP_TLS=true is STARTTLS (port 587 or 25). For implicit TLS on port 465 set
 * SMTP_HOST=ssl://smtp.example.org and SMTP_TLS=false.
 */
declare(strict_types=1);

use Cake\Mailer\Transport\SmtpTransport;

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
    'EmailTransport' => [
        'smtp' => [
            'className' => SmtpTransport::class,
            'host' => $text(env('SMTP_HOST')),
            'port' => (int)$text(env('SMTP_PORT'), '587'),
            // null: no SMTP AUTH.
            'username' => $text(env('SMTP_USERNAME')),
            'password' => $text(env('SMTP_PASSWORD')),
            'tls' => $flag(env('SMTP_TLS'), true),
            'timeout' => 30,
        ],
    ],
    'AppEmail' => [
        'transport' => $text(env('EMAIL_TRANSPORT'), 'smtp'),
        'from_email' => $text(env('FROM_EMAIL')),
        'notify_email' => $text(env('NOTIFY_EMAIL')),
    ],
];
