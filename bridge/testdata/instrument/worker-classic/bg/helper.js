self.log = (m) => console.log(m);
