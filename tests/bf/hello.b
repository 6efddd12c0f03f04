hello world for the jitkit Brainfuck example
cells one to four get 70 100 30 10 from a counting loop on cell zero
++++++++++[>+++++++>++++++++++>+++>+<<<<-]
H  >++.
e  >+.
l  +++++++.
l  .
o  +++.
comma  >++++++++++++++.
space  ------------.
W  <<+++++++++++++++.
o  >.
r  +++.
l  ------.
d  --------.
bang  >+.
newline  >.
