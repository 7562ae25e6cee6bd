package archive_test

import "net/mail"

type mailAddress = mail.Address

func mailAddr(a string) mail.Address { return mail.Address{Address: a} }
