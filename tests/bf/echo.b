echo: copy the input to the output until end of input (which reads as 0)
,[.,]
