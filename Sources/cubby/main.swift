print("cubby")
