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
    'EmailTransport' => [
        'smtp' => [
            'className' => SmtpTransport::class,
            'host' => $text('SMTP_HOST'),
            'port' => (int)$text('SMTP_PORT', '587'),
            // null: no SMTP AUTH.
            'username' => $text('SMTP_USERNAME'),
            'password' => $text('SMTP_PASSWORD'),
            'tls' => $flag('SMTP_TLS', true),
            'timeout' => 30,
        ],
    ],
    'AppEmail' => [
        'transport' => $text('EMAIL_TRANSPORT', 'smtp'),
        'from_email' => $text('FROM_EMAIL'),
        'notify_email' => $text('NOTIFY_EMAIL'),
    ],
];
