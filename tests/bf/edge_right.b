prints R then marks cells with 1 from left to right: the scan for the next
zero cell runs off the right edge of the tape
++++++++[>++++++++++<-]>++.[-]
+[[>]+]
never reached
++++++++++.
