prints M then a move loop at cell zero adds to the cell on its left
++++++++[>++++++++++<-]>---.[-]<
+[<+>-]
never reached
++++++++++.
