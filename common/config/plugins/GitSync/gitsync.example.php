<?php
/**
 * @@APP_NAME@@ @@VERSION@@ — the GitSync plugin's providers in one file
 * (installed in the application as plugins/GitSync/config/gitsync.php when the
 * plugin is part of the application): the settings of gitsync_github.php,
 * gitsync_gitlab.php and gitsync_bitbucket.php, installed beside it.
 */
declare(strict_types=1);

$providers = [];
foreach (['github', 'gitlab', 'bitbucket'] as $provider) {
    $config = require __DIR__ . '/gitsync_' . $provider . '.php';
    $providers += $config['GitSync'];
}

return ['GitSync' => $providers];
