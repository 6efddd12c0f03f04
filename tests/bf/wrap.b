cell wrap around: 8 bit cells that wrap in both directions

zero minus one is 255; 66 more wrap to 65 which prints A
-
++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
.
256 increments are the identity: still A
++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
.
a loop counting up from 1 runs 255 times until the cell wraps to 0
and adds one to the next cell each time: 255 plus 67 is 66 which prints B
>+[+>+<]>+++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++.
a loop counting up from 253 runs 3 times adding 2 to the next cell:
6 plus 61 is 67 which prints C
>---[+>++<]>+++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++.
a clear loop that counts up ending at zero; then 10 prints a newline
[+]++++++++++.
