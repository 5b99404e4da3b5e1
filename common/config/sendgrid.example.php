<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — e-mail through SendGrid's API (installed in the
 * application as config/sendgrid.php). Used when EMAIL_TRANSPORT=sendgrid;
 * EMAIL_API_KEY is the SendGrid API key.
 */
declare(strict_types=1);

use App\Mailer\Transport\SendGridTransport;

// An env() value as a string; unset or empty (`NAME=` in .env) gives $default.
$text = static function ($value, ?string $default = null): ?string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

return [
    'EmailTransport' => [
        'sendgrid' => [
            'className' => SendGridTransport::class,
            'apiKey' => $text(env('EMAIL_API_KEY')),
        ],
    ],
    'AppEmail' => [
        'transport' => $text(env('EMAIL_TRANSPORT'), 'sendgrid'),
        'from_email' => $text(env('FROM_EMAIL')),
        'notify_email' => $text(env('NOTIFY_EMAIL')),
    ],
];
