nested loops: a triangle of stars then three rows of digits

cells: c0 rows  c1 width  c2 temp  c3 star  c4 newline
+++++
>>++++++[>+++++++<-]
>>++++++++++
<<<<
[
  >+               widen
  [>+>.<<-]        print width stars; count them into c2
  >[<+>-]          move c2 back to c1
  >>.              newline
  <<<<-
]

cells: c5 rows  c6 column counter  c7 digit  c8 digit offset  c9 newline
>>>>>+++
>++++++[>++++++++<-]      digit zero is 48
>>>++++++++++
<<<<
[
  >++++++++++      ten columns
  [>.+>+<<-]       print a digit and step it; count steps in c8
  >>[<->-]         take the ten steps back off the digit
  >.               newline
  <<<<-
]
