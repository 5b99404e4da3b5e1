<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — Stripe payments of the Payments plugin (installed
 * in the application as plugins/Payments/config/stripe.php when the plugin is
 * part of the application). Keys: https://dashboard.stripe.com/apikeys
 */
declare(strict_types=1);

$text = static function (string $name, ?string $default = null): ?string {
    $value = env($name);

    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

return [
    'Stripe' => [
        'publishable_key' => $text('STRIPE_PUBLISHABLE_KEY'),
        'secret_key' => $text('STRIPE_SECRET_KEY'),
        'webhook_secret' => $text('STRIPE_WEBHOOK_SECRET'),
        'currency' => $text('STRIPE_CURRENCY', 'usd'),
        // Prefix of the product ids this installation creates in Stripe.
        'product_prefix' => 'cloud_v3_',
    ],
];
