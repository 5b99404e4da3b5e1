<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — Google Drive picker (installed in the application
 * as config/google_drive.php). GOOGLE_DRIVE_API_KEY is the browser API key of
 * the Google Cloud project; without it the picker is off.
 */
declare(strict_types=1);

$key = env('GOOGLE_DRIVE_API_KEY');
$key = $key === null || $key === '' || $key === false ? null : (string)$key;

return [
    'GoogleDrive' => [
        'api_key' => $key,
        'enabled' => $key !== null,
    ],
];
