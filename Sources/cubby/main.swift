print("cubby: being assembled")
