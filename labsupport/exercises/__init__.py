"""One module of graders per chapter; ``labsupport.check`` loads them all on first use."""
