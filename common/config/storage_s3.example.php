<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — file storage (installed in the application as
 * config/storage_s3.php). All uploads go to S3-compatible object storage; the
 * application keeps no files on local disk.
 *
 * Without AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY the AWS SDK's default
 * credential chain is used (instance profile, IAM role for service accounts).
 * MinIO and most self-hosted providers need AWS_S3_ENDPOINT and
 * AWS_S3_USE_PATH_STYLE=true.
 */
declare(strict_types=1);

$bool = static function (string $name, bool $default = false): bool {
    $value = env($name);
    if ($value === null || $value === '' || $value === false) {
        return $default;
    }

    return filter_var($value, FILTER_VALIDATE_BOOLEAN);
};

$s3 = [
    'version' => 'latest',
    'bucket' => env('AWS_S3_BUCKET'),
    'region' => env('AWS_S3_REGION') ?: 'us-east-1',
    'use_path_style_endpoint' => $bool('AWS_S3_USE_PATH_STYLE', false),
];

$endpoint = env('AWS_S3_ENDPOINT');
if ($endpoint !== null && $endpoint !== '') {
    $s3['endpoint'] = $endpoint;
}

$key = env('AWS_ACCESS_KEY_ID');
$secret = env('AWS_SECRET_ACCESS_KEY');
if ($key !== null && $key !== '' && $secret !== null && $secret !== '') {
    $s3['credentials'] = ['key' => $key, 'secret' => $secret];
}

return [
    'Storage' => [
        'driver' => 's3',
        's3' => $s3,
    ],
];
