/* Test fixture: a shared library that is not a briefd plugin (no entry symbol). */
int not_a_plugin(void) { return 42; }
