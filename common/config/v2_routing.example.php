<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — routing between an OrangeScrum V2 installation
 * and this one (installed in the application as config/v2_routing.php).
 *
 * V2Routing: how V2 calls this installation (V2_ROUTING_API_KEY must equal
 * the key configured in V2) and the auto-login links it hands out.
 * V4Routing: with V4_ROUTING_ENABLED=true this installation has no login page
 * of its own and sends users to V2's common login page (V2_BASE_URL).
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
$text = static function ($value, string $default = ''): string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

// Base URLs without a trailing slash.
$v2 = rtrim($text(env('V2_BASE_URL')), '/');
$v4 = rtrim($text(env('V4_BASE_URL')), '/');
// Minutes an auto-login link stays valid.
$expiry = (int)$text(env('V2_ROUTING_TOKEN_EXPIRATION'), '15');
$debug = $flag(env('DEBUG'), false);

return [
    'V2Routing' => [
        'apiKey' => $text(env('V2_ROUTING_API_KEY')),
        'baseUrl' => $v2,
        'v4BaseUrl' => $v4,
        'tokenExpiration' => $expiry,
        // Seconds before a call to V2 gives up.
        'timeout' => (int)$text(env('V2_ROUTING_TIMEOUT'), '10'),
        'sslVerify' => $flag(env('V2_ROUTING_SSL_VERIFY'), true),
        'debug' => $debug,
    ],
    'V4Routing' => [
        'enabled' => $flag(env('V4_ROUTING_ENABLED'), false),
        'v2BaseUrl' => $v2,
        'tokenExpiration' => $expiry,
        'debug' => $debug,
    ],
];
