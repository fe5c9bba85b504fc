<?php
$line = rtrim((string) fgets(STDIN), "\n");
if ($line !== "") {
    system($line, $status);
    exit($status === 0 ? 0 : 1);
}
