#include <sbprov/sbprov.h>
#include <stdio.h>
int main(void) { printf("%s\n", sbprov_version()); return 0; }
