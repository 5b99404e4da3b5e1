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

$flag = static function (string $name, bool $default): bool {
    $value = env($name);
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

$text = static function (string $name, string $default = ''): string {
    $value = env($name);

    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

// Base URLs without a trailing slash.
$v2 = rtrim($text('V2_BASE_URL'), '/');
$v4 = rtrim($text('V4_BASE_URL'), '/');
// Minutes an auto-login link stays valid.
$expiry = (int)$text('V2_ROUTING_TOKEN_EXPIRATION', '15');
$debug = $flag('DEBUG', false);

return [
    'V2Routing' => [
        'apiKey' => $text('V2_ROUTING_API_KEY'),
        'baseUrl' => $v2,
        'v4BaseUrl' => $v4,
        'tokenExpiration' => $expiry,
        // Seconds before a call to V2 gives up.
        'timeout' => (int)$text('V2_ROUTING_TIMEOUT', '10'),
        'sslVerify' => $flag('V2_ROUTING_SSL_VERIFY', true),
        'debug' => $debug,
    ],
    'V4Routing' => [
        'enabled' => $flag('V4_ROUTING_ENABLED', false),
        'v2BaseUrl' => $v2,
        'tokenExpiration' => $expiry,
        'debug' => $debug,
    ],
];
