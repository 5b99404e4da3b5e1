<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — S3-compatible object storage for every upload
 * (installed in the application as config/storage.php). The application keeps
 * no files on local disk.
 *
 * AWS S3: STORAGE_ENDPOINT=https://s3.amazonaws.com (or empty), the bucket's
 * STORAGE_REGION, STORAGE_PATH_STYLE=false. MinIO and most self-hosted
 * services: their URL and STORAGE_PATH_STYLE=true. DigitalOcean Spaces:
 * https://<region>.digitaloceanspaces.com, STORAGE_REGION=<region>.
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
$text = static function ($value, ?string $default = null): ?string {
    return $value === null || $value === '' || $value === false ? $default : (string)$value;
};

return [
    'Storage' => [
        // null: the AWS SDK's default endpoint for the region.
        'endpoint' => $text(env('STORAGE_ENDPOINT')),
        // Both null: the SDK's credential chain (instance profile, IAM role).
        'accessKey' => $text(env('STORAGE_ACCESS_KEY')),
        'secretKey' => $text(env('STORAGE_SECRET_KEY')),
        'bucket' => $text(env('STORAGE_BUCKET'), 'orangescrum'),
        'region' => $text(env('STORAGE_REGION'), 'us-east-1'),
        'use_path_style_endpoint' => $flag(env('STORAGE_PATH_STYLE'), false),
    ],
];
