<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — Stripe payments of the Payments plugin (installed
 * in the application as plugins/Payments/config/stripe.php when the plugin is
 * part of the application). Keys: https://dashboard.stripe.com/apikeys
 */
declare(strict_types=1);

// An env() value as a string; unset or empty (`NAME=` in .env) gives $default.
$text = static function ($value, ?string $default = null): ?string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

return [
    'Stripe' => [
        'publishable_key' => $text(env('STRIPE_PUBLISHABLE_KEY')),
        'secret_key' => $text(env('STRIPE_SECRET_KEY')),
        'webhook_secret' => $text(env('STRIPE_WEBHOOK_SECRET')),
        'currency' => $text(env('STRIPE_CURRENCY'), 'usd'),
        // Prefix of the product ids this installation creates in Stripe.
        'product_prefix' => 'cloud_v3_',
    ],
];
