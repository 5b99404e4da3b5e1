<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — e-mail (installed in the application as
 * config/email.php).
 *
 * EMAIL_TRANSPORT=smtp      any SMTP relay (SMTP_HOST, SMTP_PORT, SMTP_TLS,
 *                           optional SMTP_USERNAME/SMTP_PASSWORD)
 * EMAIL_TRANSPORT=sendgrid  SendGrid's SMTP relay with SENDGRID_API_KEY
 *
 * SMTP_TLS=true means STARTTLS (ports 587/25). For implicit TLS on port 465
 * set SMTP_HOST=ssl://smtp.example.org and SMTP_TLS=false.
 */
declare(strict_types=1);

use Cake\Mailer\Transport\SmtpTransport;

$bool = static function (string $name, bool $default = false): bool {
    $value = env($name);
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

$optional = static function (string $name): ?string {
    $value = env($name);

    return $value === null || $value === '' ? null : (string)$value;
};

$transport = (env('EMAIL_TRANSPORT') ?: 'smtp') === 'sendgrid'
    ? [
        'className' => SmtpTransport::class,
        'host' => 'smtp.sendgrid.net',
        'port' => 587,
        'username' => 'apikey',
        'password' => env('SENDGRID_API_KEY'),
        'tls' => true,
        'timeout' => 30,
    ]
    : [
        'className' => SmtpTransport::class,
        'host' => env('SMTP_HOST'),
        'port' => (int)(env('SMTP_PORT') ?: 587),
        'username' => $optional('SMTP_USERNAME'),
        'password' => $optional('SMTP_PASSWORD'),
        'tls' => $bool('SMTP_TLS', true),
        'timeout' => 30,
    ];

return [
    'EmailTransport' => [
        'default' => $transport,
    ],
    'Email' => [
        'default' => [
            'transport' => 'default',
            'from' => env('EMAIL_FROM'),
            'charset' => 'utf-8',
            'headerCharset' => 'utf-8',
        ],
    ],
];
