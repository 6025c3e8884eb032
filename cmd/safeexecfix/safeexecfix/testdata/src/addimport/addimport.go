package addimport
