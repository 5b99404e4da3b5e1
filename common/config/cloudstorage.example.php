<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — attaching files from Google Drive, Dropbox and
 * OneDrive (installed in the application as config/cloudstorage.php).
 *
 * CLOUD_STORAGE_AUTH_DOMAIN is the host the providers redirect to after
 * sign-in (their OAuth callbacks). Dropbox and OneDrive are on when their
 * *_ENABLED variable is true and their client id and secret are set; Google
 * Drive when its client id and secret are set. CLOUD_STORAGE_ENABLED=false
 * turns all three off.
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

$all = $flag(env('CLOUD_STORAGE_ENABLED'), true);
// A provider is on when enabled and both of its OAuth credentials are set.
$on = static function ($enabled, bool $default, string $id, string $secret) use ($all, $flag): bool {
    return $all && $flag($enabled, $default) && $id !== '' && $secret !== '';
};

$google = [$text(env('GOOGLE_DRIVE_CLIENT_ID')), $text(env('GOOGLE_DRIVE_CLIENT_SECRET'))];
$dropbox = [$text(env('DROPBOX_CLIENT_ID')), $text(env('DROPBOX_CLIENT_SECRET'))];
$onedrive = [$text(env('ONEDRIVE_CLIENT_ID')), $text(env('ONEDRIVE_CLIENT_SECRET'))];

return [
    'CloudStorage' => [
        'auth_domain' => $text(env('CLOUD_STORAGE_AUTH_DOMAIN')),
        'GoogleDrive' => [
            'client_id' => $google[0],
            'client_secret' => $google[1],
            // Browser key of the Google Picker.
            'api_key' => $text(env('GOOGLE_DRIVE_API_KEY')),
            // The project number: the digits before the first '-' of the client id.
            'client_id_num' => (string)strstr($google[0], '-', true),
            'enabled' => $on(null, true, ...$google),
            'scopes' => [
                'https://www.googleapis.com/auth/drive.file',
                'https://www.googleapis.com/auth/drive.readonly',
                'https://www.googleapis.com/auth/userinfo.email',
                'https://www.googleapis.com/auth/userinfo.profile',
            ],
        ],
        'Dropbox' => [
            'client_id' => $dropbox[0],
            'client_secret' => $dropbox[1],
            'enabled' => $on(env('DROPBOX_ENABLED'), false, ...$dropbox),
            'scopes' => ['files.metadata.read', 'files.content.read', 'sharing.read'],
        ],
        'OneDrive' => [
            'client_id' => $onedrive[0],
            'client_secret' => $onedrive[1],
            // common: personal and work accounts; consumers; organizations; or a tenant id.
            'tenant_id' => $text(env('ONEDRIVE_TENANT_ID'), 'common'),
            'enabled' => $on(env('ONEDRIVE_ENABLED'), false, ...$onedrive),
            'scopes' => ['Files.Read', 'Files.Read.All', 'User.Read', 'offline_access'],
        ],
        'Settings' => [
            // Refresh access tokens this many seconds before they expire.
            'token_buffer' => 300,
            'auto_sync_interval' => 24,
            'debug' => $flag(env('DEBUG'), false),
            'max_files_per_selection' => 50,
            'enable_thumbnails' => true,
            'thumbnail_size' => 'medium',
            'max_preview_size' => 10 * 1024 * 1024,
            'allowed_extensions' => [
                'pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'odp', 'txt', 'rtf', 'csv',
                'jpg', 'jpeg', 'png', 'gif', 'bmp', 'svg', 'webp',
                'zip', 'rar', '7z', 'tar', 'gz',
                'mp4', 'avi', 'mov', 'wmv', 'mp3', 'wav',
            ],
            'blocked_extensions' => ['exe', 'bat', 'cmd', 'sh', 'ps1'],
        ],
        'Features' => [
            'multi_provider_selection' => true,
            'file_preview' => true,
            'file_download' => true,
            'file_sharing' => true,
            'auto_sync' => true,
            'activity_logging' => true,
            'metadata_caching' => true,
            'cache_duration' => 60,
        ],
        'Security' => [
            'encrypt_tokens' => true,
            // Empty: tokens are encrypted with Security.salt.
            'encryption_key' => '',
            'require_ssl' => true,
            'ip_whitelist' => [],
            'rate_limit' => 60,
            'force_reauth_days' => 90,
        ],
    ],
];
