"""Built-in adapters (SFTP, HTTP, SQL, file inbox); found by the hub through entry points."""
