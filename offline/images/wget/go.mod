module monitoring.local/wget

go 1.26
