prints ok then steps left of cell zero and touches it
++++++++++[>+++++++++++>++++++++++<<-]>+.>+++++++.<<<+
this is never reached
++++++++++.
