<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — e-mail through SendGrid's API (installed in the
 * application as config/sendgrid.php). Used when EMAIL_TRANSPORT=sendgrid;
 * EMAIL_API_KEY is the SendGrid API key.
 */
declare(strict_types=1);

use App\Mailer\Transport\SendGridTransport;

$text = static function (string $name, ?string $default = null): ?string {
    $value = env($name);

    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

return [
    'EmailTransport' => [
        'sendgrid' => [
            'className' => SendGridTransport::class,
            'apiKey' => $text('EMAIL_API_KEY'),
        ],
    ],
    'AppEmail' => [
        'transport' => $text('EMAIL_TRANSPORT', 'sendgrid'),
        'from_email' => $text('FROM_EMAIL'),
        'notify_email' => $text('NOTIFY_EMAIL'),
    ],
];
