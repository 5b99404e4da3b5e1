<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — attaching files from Google Drive, Dropbox and
 * OneDrive (installed in the application as config/cloudstorage.php).
 *
 * CLOUD_STORAGE_AUTH_DOMAIN is the host the providers redirect to after
 * sign-in (their OAuth callbacks). Each provider is on when its *_ENABLED
 * variable is true and its client id and secret are set.
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

$all = $flag('CLOUD_STORAGE_ENABLED', true);
$on = static function (string $prefix, bool $default) use ($all, $flag, $text): bool {
    return $all
        && $flag($prefix . '_ENABLED', $default)
        && $text($prefix . '_CLIENT_ID') !== ''
        && $text($prefix . '_CLIENT_SECRET') !== '';
};

$googleClientId = $text('GOOGLE_DRIVE_CLIENT_ID');

return [
    'CloudStorage' => [
        'auth_domain' => $text('CLOUD_STORAGE_AUTH_DOMAIN'),
        'GoogleDrive' => [
            'client_id' => $googleClientId,
            'client_secret' => $text('GOOGLE_DRIVE_CLIENT_SECRET'),
            // Browser key of the Google Picker.
            'api_key' => $text('GOOGLE_DRIVE_API_KEY'),
            // The project number: the digits before the first '-' of the client id.
            'client_id_num' => (string)strstr($googleClientId, '-', true),
            'enabled' => $on('GOOGLE_DRIVE', true),
            'scopes' => [
                'https://www.googleapis.com/auth/drive.file',
                'https://www.googleapis.com/auth/drive.readonly',
                'https://www.googleapis.com/auth/userinfo.email',
                'https://www.googleapis.com/auth/userinfo.profile',
            ],
        ],
        'Dropbox' => [
            'client_id' => $text('DROPBOX_CLIENT_ID'),
            'client_secret' => $text('DROPBOX_CLIENT_SECRET'),
            'enabled' => $on('DROPBOX', false),
            'scopes' => ['files.metadata.read', 'files.content.read', 'sharing.read'],
        ],
        'OneDrive' => [
            'client_id' => $text('ONEDRIVE_CLIENT_ID'),
            'client_secret' => $text('ONEDRIVE_CLIENT_SECRET'),
            // common: personal and work accounts; consumers; organizations; or a tenant id.
            'tenant_id' => $text('ONEDRIVE_TENANT_ID', 'common'),
            'enabled' => $on('ONEDRIVE', false),
            'scopes' => ['Files.Read', 'Files.Read.All', 'User.Read', 'offline_access'],
        ],
        'Settings' => [
            // Refresh access tokens this many seconds before they expire.
            'token_buffer' => 300,
            'auto_sync_interval' => 24,
            'debug' => $flag('DEBUG', false),
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
