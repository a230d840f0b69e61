db_password = "correct horse battery staple"
api_token   = "s3cr3t-t0k3n"
