root:$y$j9T$Qx8rN0tASecretHashValue:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
