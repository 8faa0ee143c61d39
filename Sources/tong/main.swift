print("tong")
